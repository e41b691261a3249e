// Bundles the test frontend (app/index.js) into build/bundle.js and copies the
// extensions' settings schemas and themes into build/ for jupyterlab_server.
const path = require('path');
const rspack = require('@rspack/core');
const { Build } = require('@jupyter/builder');
const miniSVGDataURI = require('mini-svg-data-uri');
const pkg = require('./package.json');

const buildDir = path.resolve(__dirname, 'build');

const assetConfigs = Build.ensureAssets({
  packageNames: pkg.jupyterlab.extensions,
  output: buildDir
});

module.exports = [
  {
    entry: { bundle: './app/index.js' },
    output: {
      path: buildDir,
      filename: '[name].js',
      chunkFilename: '[name].[contenthash].js',
      // Set at run time from the page config (see app/index.js).
      publicPath: 'auto'
    },
    bail: true,
    devtool: false,
    // rspack turns AMD off by default; anywidget's dist is an AMD module.
    amd: {},
    module: {
      rules: [
        {
          test: /node_modules[\\/]anywidget[\\/]dist[\\/]index\.js$/,
          type: 'javascript/auto'
        },
        { test: /\.raw\.css$/, type: 'asset/source' },
        { test: /(?<!\.raw)\.css$/, use: ['style-loader', 'css-loader'] },
        { test: /\.md$/, type: 'asset/source' },
        { test: /\.(jpg|png|gif)$/, type: 'asset/resource' },
        { test: /\.(woff2?|ttf)(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
        { test: /\.eot(\?v=\d+\.\d+\.\d+)?$/, type: 'asset/resource' },
        {
          // svg imported from css: inline data URI
          test: /\.svg(\?v=\d+\.\d+\.\d+)?$/,
          issuer: /\.css$/,
          type: 'asset/inline',
          generator: {
            dataUrl: content => miniSVGDataURI(content.toString())
          }
        },
        {
          // svg imported from js: the raw markup (LabIcon)
          test: /\.svg(\?v=\d+\.\d+\.\d+)?$/,
          issuer: /\.js$/,
          type: 'asset/source'
        }
      ]
    },
    plugins: [
      new rspack.DefinePlugin({
        // Several packages call process.cwd() (the path polyfill among them).
        process: { cwd: () => '/', env: {} }
      })
    ],
    performance: { hints: false }
  }
].concat(assetConfigs);
