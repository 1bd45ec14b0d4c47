import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The back-office console. `doorstep-server` embeds the built files and serves them under
// /console; `npm run dev` proxies the API to a server on 127.0.0.1:8080.
export default defineConfig({
  base: "/console/",
  plugins: [svelte()],
  clearScreen: false,
  server: { proxy: { "/console/api": "http://127.0.0.1:8080" } },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true, assetsInlineLimit: 0 },
});
