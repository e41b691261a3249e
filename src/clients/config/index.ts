/** Client configuration: settings types, profile resolution, rucio.cfg and our own config.json. */
export * from "./types";
export * from "./resolve";
export { saveProfile, removeProfile, readConfigFile, writeConfigFile, configFilePath, isTooOpen } from "./store";
export type { ConfigFile, StoredProfile } from "./store";
export { readRucioCfg, rucioCfgCandidates, type Env } from "./rucio-cfg";
export { discoverBearerToken } from "./env";
export { parseIni } from "./ini";
