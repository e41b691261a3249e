/**
 * The domain magics: %rucio, %reana, %zenodo and %vre. The kernel calls `registerDomainMagics(registerMagic)` at
 * start; each magic reaches the services through the process-wide session (profiles, clients, provenance).
 */
import { session as processSession, type Session } from "../session";
import type { MagicSpec } from "./types";
import { reanaMagic } from "./reana";
import { rucioMagic } from "./rucio";
import { vreMagic } from "./vre";
import { zenodoMagic } from "./zenodo";

export interface DomainMagicOptions {
  /** The session the magics use (default: the process-wide `session()`), resolved on every call. */
  session?: () => Session;
}

/** The four magic specs, for callers that register them another way. */
export function domainMagics(options: DomainMagicOptions = {}): MagicSpec[] {
  const get = options.session ?? processSession;
  return [rucioMagic(get), reanaMagic(get), zenodoMagic(get), vreMagic(get)];
}

export function registerDomainMagics(register: (spec: MagicSpec) => void, options: DomainMagicOptions = {}): void {
  for (const spec of domainMagics(options)) register(spec);
}
