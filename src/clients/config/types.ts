/** Settings of the three service clients (the shapes every part of vre-ts uses). */

export type RucioAuthType = "userpass" | "x509" | "x509_proxy" | "oidc" | "token";

export interface RucioSettings {
  /** API server, e.g. https://vre-rucio.cern.ch (paths hang off it, no /v1). */
  host: string;
  /** Auth server when separate (VRE: https://vre-rucio-auth.cern.ch). Defaults to host. */
  authHost?: string;
  account?: string;
  /** Virtual organisation (multi-VO servers); sent as X-Rucio-VO. Default "def". */
  vo?: string;
  authType?: RucioAuthType;
  username?: string;
  password?: string;
  /** A ready token: a Rucio token or an IdP JWT (the VRE way). */
  token?: string;
  /** File holding a token (JWT), re-read when it changes. */
  tokenFile?: string;
  /** CA bundle (PEM) to trust for both hosts. */
  caCert?: string;
  /** x509 client certificate (or proxy) and key. */
  clientCert?: string;
  clientKey?: string;
  /** RSE where "make available" rules go and downloads prefer to read from. */
  destinationRse?: string;
  /** Where the destination RSE is FUSE-mounted locally (e.g. /eos/eulake). */
  mountPath?: string;
  /** The PFN path is kept after its n-th `/` when mapped under mountPath (VRE: 5). */
  pathBeginsAt?: number;
  /** Points at the embedded local sandbox. */
  sandbox?: boolean;
}

export interface ReanaSettings {
  /** e.g. https://reana.cern.ch */
  serverUrl: string;
  accessToken?: string;
  caCert?: string;
  insecure?: boolean;
  sandbox?: boolean;
}

export interface ZenodoSettings {
  /** API base, e.g. https://zenodo.org/api or https://sandbox.zenodo.org/api */
  baseUrl: string;
  token?: string;
  /** Zenodo's sandbox (DOIs 10.5072) rather than production. */
  sandbox: boolean;
  /** Our embedded local sandbox. */
  local?: boolean;
  /**
   * A stable name for this Zenodo, which remembered deposits are keyed by (default: baseUrl). The local sandbox
   * names its data folder, since its URL changes with its port at every start.
   */
  instance?: string;
}

export type ServiceName = "rucio" | "reana" | "zenodo";

export interface SettingsOf {
  rucio: RucioSettings;
  reana: ReanaSettings;
  zenodo: ZenodoSettings;
}

export const ZENODO_PRODUCTION_URL = "https://zenodo.org/api";
export const ZENODO_SANDBOX_URL = "https://sandbox.zenodo.org/api";
