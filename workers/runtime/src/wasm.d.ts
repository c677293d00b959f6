// Wrangler (and the vitest pool) bundle a statically imported .wasm as a compiled module.
declare module '@jitl/quickjs-wasmfile-release-sync/wasm' {
  const module: WebAssembly.Module;
  export default module;
}
