// BullMQ ships each of its Lua scripts, includes resolved, as a module of dist/cjs/scripts;
// only its ES module build has declarations for them, with this shape. queue-scripts.ts wraps
// moveToActive and moveToFinished; the submit script wraps the add scripts.
declare module 'bullmq/dist/cjs/scripts' {
  export * from 'bullmq/dist/esm/scripts';
}
declare module 'bullmq/dist/cjs/scripts/moveToActive-11' {
  export const moveToActive: { name: string; content: string; keys: number };
}
declare module 'bullmq/dist/cjs/scripts/moveToFinished-14' {
  export const moveToFinished: { name: string; content: string; keys: number };
}
