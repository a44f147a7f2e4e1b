/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Everything (JS, CSS including uPlot's stylesheet) is bundled into dist/;
// the app never loads anything from the network at runtime.
export default defineConfig({
  base: "./",
  clearScreen: false,
  // The translation files live at the repository root (locales/), shared with Rust.
  server: { strictPort: true, port: 1420, fs: { allow: [".", "../locales"] } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2021",
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    environment: "node",
    include: ["tests/**/*.test.ts"],
  },
});
