/**
 * JSON text as Python's `json.dumps` writes it (", " and ": " separators), which is what Rucio's Flask views send
 * for objects and NDJSON lines. Keeping the byte layout lets the sandbox be compared line by line with the
 * recorded 35.8.0 transcript.
 */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        parts.push(`${JSON.stringify(k)}: ${pyJson(v)}`);
      }
      return `{${parts.join(", ")}}`;
    }
    default:
      return "null";
  }
}

/** `Wed, 25 Nov 2026 02:44:36 UTC`: Rucio's RFC 1123 rendering of datetimes in JSON and streams. */
export function rfc1123(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  return new Date(ms).toUTCString().replace(/GMT$/, "UTC");
}

/** `2026-11-25T02:44:29`: the zone-less ISO form used by `GET /accounts/{account}`. */
export function isoNoZone(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  return new Date(ms).toISOString().slice(0, 19);
}
