// Playwright + galata configuration of the browser tests.
// The server (serve.sh) is started and stopped by Playwright itself.
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const port = Number(process.env.VRE_UI_PORT || 8899);
const baseURL = `http://127.0.0.1:${port}`;
// run.sh points these into its run folder; by hand they default to this folder.
const results = process.env.VRE_UI_RESULTS_DIR || '.';

module.exports = {
  ...baseConfig,
  testDir: './tests',
  outputDir: `${results}/test-results`,
  // One server, one browser, tests one after another: deterministic on 2 cores.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 120_000,
  expect: {
    timeout: 30_000,
    // Same Chromium and fonts (Debian packages, galata's pinned web fonts) on CI,
    // but leave room for anti-aliasing differences between machines.
    toMatchSnapshot: { threshold: 0.2, maxDiffPixelRatio: 0.02 }
  },
  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: `${results}/playwright-report` }],
    // Read by run.sh for its summary line.
    ['json', { outputFile: `${results}/summary.json` }]
  ],
  use: {
    ...baseConfig.use,
    baseURL,
    viewport: { width: 1024, height: 768 },
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    // Playwright's video needs its own ffmpeg download, which is not available.
    video: 'off',
    launchOptions: {
      executablePath: process.env.VRE_UI_CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--font-render-hinting=none'
      ]
    }
  },
  webServer: {
    command: `bash serve.sh ${port}`,
    url: `${baseURL}/lab`,
    // Never reuse a server found on the port: it may belong to another run.
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe'
  }
};
