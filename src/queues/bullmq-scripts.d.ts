// BullMQ ships each of its Lua scripts, includes resolved, as a module of dist/cjs/scripts;
// only its ES module build has declarations for them, the same.
declare module 'bullmq/dist/cjs/scripts' {
  export * from 'bullmq/dist/esm/scripts';
}
