// Entry point of the test frontend: JupyterLab 4 assembled from npm packages,
// in the style of JupyterLab's own examples/app, plus the widget manager,
// the anywidget frontend and galata's in-page helpers.
import { PageConfig } from '@jupyterlab/coreutils';
import './style.js';

// Plugins left out: they call services this server does not provide
// (language servers) or pop up notifications that cover the page.
const EXCLUDED_PLUGINS = new Set([
  '@jupyterlab/apputils-extension:announcements',
  '@jupyterlab/notebook-extension:language-server'
]);

function pluginsOf(mod) {
  const exported = mod.default ?? mod;
  const list = Array.isArray(exported) ? exported : [exported];
  return list.filter(
    plugin =>
      !EXCLUDED_PLUGINS.has(plugin.id) && !plugin.id.endsWith(':language-server')
  );
}

async function main() {
  // Chunks and assets are served next to bundle.js.
  // eslint-disable-next-line no-undef
  __webpack_public_path__ = PageConfig.getOption('fullStaticUrl') + '/';

  const { JupyterLab } = await import('@jupyterlab/application');

  const extensionModules = await Promise.all([
    import('@jupyterlab/application-extension'),
    import('@jupyterlab/apputils-extension'),
    import('@jupyterlab/codemirror-extension'),
    import('@jupyterlab/completer-extension'),
    import('@jupyterlab/console-extension'),
    import('@jupyterlab/docmanager-extension'),
    import('@jupyterlab/documentsearch-extension'),
    import('@jupyterlab/filebrowser-extension'),
    import('@jupyterlab/fileeditor-extension'),
    import('@jupyterlab/launcher-extension'),
    import('@jupyterlab/mainmenu-extension'),
    import('@jupyterlab/markdownviewer-extension'),
    import('@jupyterlab/markedparser-extension'),
    import('@jupyterlab/metadataform-extension'),
    import('@jupyterlab/notebook-extension'),
    import('@jupyterlab/rendermime-extension'),
    import('@jupyterlab/running-extension'),
    import('@jupyterlab/services-extension'),
    import('@jupyterlab/shortcuts-extension'),
    import('@jupyterlab/statusbar-extension'),
    import('@jupyterlab/theme-dark-extension'),
    import('@jupyterlab/theme-light-extension'),
    import('@jupyterlab/toc-extension'),
    import('@jupyterlab/tooltip-extension'),
    import('@jupyterlab/translation-extension'),
    import('@jupyterlab/ui-components-extension'),
    import('@jupyter-widgets/jupyterlab-manager')
  ]);
  const mimeExtensions = (
    await Promise.all([
      import('@jupyterlab/javascript-extension'),
      import('@jupyterlab/json-extension')
    ])
  ).map(mod => mod.default ?? mod);
  const anywidgetPlugin = (await import('./anywidget-plugin.js')).default;
  const galataPlugins = (await import('@jupyterlab/galata/lib/extension/index.js')).default;

  const lab = new JupyterLab({ mimeExtensions });
  for (const mod of extensionModules) {
    lab.registerPlugins(pluginsOf(mod));
  }
  lab.registerPlugin(anywidgetPlugin);
  lab.registerPlugins(galataPlugins);

  // What JupyterLab's `exposeAppInBrowser` does; galata reads it before start.
  window.jupyterapp = lab;
  await lab.start({ bubblingKeydown: true });
  await lab.restored;
}

main().catch(error => {
  console.error('JupyterLab failed to start', error);
});
