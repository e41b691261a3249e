// Registers the npm `anywidget` frontend (AnyModel/AnyView) with the real
// @jupyter-widgets/jupyterlab-manager, as anywidget's own JupyterLab extension does
// in a pip-installed JupyterLab. The npm dist is an AMD module (see rspack.config.js).
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import * as anywidget from 'anywidget';

// anywidget's package.json "exports" hide package.json itself, so the version is
// spelled out here; keep it equal to the pinned dependency in package.json.
export const ANYWIDGET_VERSION = '0.11.0';

export default {
  id: 'vre-ts-ui-tests:anywidget',
  description: 'Registers the anywidget model and view with the Jupyter widget manager.',
  requires: [IJupyterWidgetRegistry],
  autoStart: true,
  activate: (_app, registry) => {
    registry.registerWidget({
      name: 'anywidget',
      version: ANYWIDGET_VERSION,
      exports: anywidget
    });
  }
};
