import { afterEach, describe, expect, it } from "vitest";
import { ClientError } from "../errors";
import { clearSecrets, redact, redactHeaders, redactUrl, registerSecret } from "./redact";

afterEach(() => clearSecrets());

describe("redaction", () => {
  it("masks secret query parameters in URLs", () => {
    expect(redactUrl("https://reana.cern.ch/api/workflows?access_token=abc123&type=batch")).toBe("https://reana.cern.ch/api/workflows?access_token=***&type=batch");
    expect(redact("GET /x?token=t0k&password=p%40ss")).toBe("GET /x?token=***&password=***");
  });

  it("masks auth headers, bearer tokens, JWTs, Rucio tokens and URL credentials", () => {
    expect(redact("X-Rucio-Auth-Token: root-ddmlab-unknown-24e6bc9f60e94fc8978b5965c83f7c58")).toBe("X-Rucio-Auth-Token: ***");
    expect(redact("Authorization: Bearer abc.def")).toBe("Authorization: ***");
    expect(redact("sent Bearer sometoken")).toBe("sent Bearer ***");
    expect(redact("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig_part in text")).toBe("token *** in text");
    expect(redact("used root-ddmlab-unknown-24e6bc9f60e94fc8978b5965c83f7c58 here")).toBe("used *** here");
    expect(redact("https://user:pw@host/x")).toBe("https://***@host/x");
    expect(redact('{"password": "hunter2", "x": 1}')).toBe('{"password": "***", "x": 1}');
    expect(redactHeaders({ "X-Rucio-Password": "p", Cookie: "c", Accept: "*/*" })).toEqual({ "X-Rucio-Password": "***", Cookie: "***", Accept: "*/*" });
  });

  it("masks registered secret values anywhere, including URL-encoded", () => {
    registerSecret("s3cr3t/value+x");
    expect(redact("msg s3cr3t/value+x and s3cr3t%2Fvalue%2Bx")).toBe("msg *** and ***");
    registerSecret("ab"); // too short to register
    expect(redact("ab cab")).toBe("ab cab");
  });

  it("is applied to every ClientError message, hint, url and cause", () => {
    registerSecret("topsecret-token");
    const cause = new Error("socket closed while sending topsecret-token");
    const e = new ClientError({ code: "X", message: "failed with topsecret-token", hint: "retry topsecret-token", url: "http://h/?access_token=zzz", cause });
    const all = `${e.message} ${e.hint} ${e.url} ${e.stack} ${(e.cause as Error).message} ${(e.cause as Error).stack} ${JSON.stringify(e)}`;
    expect(all).not.toContain("topsecret-token");
    expect(all).not.toContain("zzz");
  });

  it("masks values, never the prose around words like password or token", () => {
    for (const prose of [
      "password reset required for user jdoe",
      "Your password: must be changed before the next login",
      "passwd expired for account jdoe; ask your administrator",
      "Invalid token: expired signature, log in again",
      "Authorization: required for this call",
      "The token is invalid",
    ]) {
      expect(redact(prose)).toBe(prose);
    }
    expect(redact("password=abc def")).toBe("password=*** def");
    expect(redact("Password: hunter2")).toBe("Password: ***");
    expect(redact("password: hunter2 (expired)")).toBe("password: *** (expired)");
    expect(redact("token: 3f1c-9a2b and more")).toBe("token: *** and more");
    expect(redact("token:abc123,next")).toBe("token:***,next");
    expect(redact('{"password": "two words here", "x": 1}')).toBe('{"password": "***", "x": 1}');
    expect(redact('{"password":12345,"token":"t"}')).toBe('{"password":***,"token":"***"}');
    expect(redact("password: 'quoted value'")).toBe("password: '***'");
    expect(redact("https://jdoe:pa55@host/x")).toBe("https://***@host/x");
    expect(redact("id_token: eyJx-abc, refresh_token=r3fr3sh")).toBe("id_token: ***, refresh_token=***");
    expect(redact('{"session_token": "a b c"}')).toBe('{"session_token": "***"}');
    // linear on long input (an echoed 100 KB argument)
    const started = Date.now();
    expect(redact(`token ${"x".repeat(100_000)} password${" y".repeat(50_000)}`).length).toBeGreaterThan(100_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("masks a short registered value as a whole word only, a long one anywhere", () => {
    registerSecret("reset");
    expect(redact("resetting failed; reset")).toBe("resetting failed; ***");
    registerSecret("a-long-token-value-1234567890");
    expect(redact("xa-long-token-value-1234567890x")).toBe("x***x");
  });
});

