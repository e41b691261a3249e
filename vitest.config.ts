import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Sandboxes that kernels under test start as processes of their own stop 5 s after their last use (default 60 s).
    env: { VRE_SANDBOX_IDLE_EXIT: "5" },
  },
});
