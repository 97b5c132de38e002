// Types of the two BullMQ scripts that queue-scripts.ts wraps. BullMQ publishes them (the Lua
// with its includes inlined) in dist/cjs/scripts without declarations; they are declared in
// dist/esm/scripts/*.d.ts with this shape.
declare module 'bullmq/dist/cjs/scripts/moveToActive-11' {
  export const moveToActive: { name: string; content: string; keys: number };
}
declare module 'bullmq/dist/cjs/scripts/moveToFinished-14' {
  export const moveToFinished: { name: string; content: string; keys: number };
}
