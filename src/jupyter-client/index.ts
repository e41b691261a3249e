/** A TypeScript Jupyter client over ZeroMQ: kernelspecs, kernel lifecycle, messaging and notebook execution. */
export { KernelClient, KernelClientError } from "./client";
export { type ConnectionInfo, newConnectionInfo, writeConnectionFile } from "./connection";
export { type CellFailure, type ExecuteOptions, type ExecuteResult, executeNotebook, recordKernelMetadata } from "./executor";
export { DEFAULT_KERNEL_NAME, type KernelSpec, KernelSpecError, findKernelSpec, listKernelSpecs, resolveKernelSpec } from "./kernelspec";
export { KernelDiedError, KernelManager } from "./manager";
export type { WireMessage } from "./messages";
export { type Notebook, type NotebookCell, type Output, parseNotebook, readNotebook, serializeNotebook, writeFileAtomic } from "./notebook";
export { OutputCollector } from "./outputs";
export { INJECTED_TAG, PARAMETERS_TAG, injectParameters, parseParameter, typeValue } from "./parameters";
export { WIDGET_STATE_MIME, WidgetStateCollector } from "./widget-state";
