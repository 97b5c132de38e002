// class-transformer's registry of @Type, @Expose, @Exclude and @Transform: its CommonJS build
// has no declarations of its own; its `types/` folder has them, with this shape.
declare module 'class-transformer/cjs/storage' {
  export * from 'class-transformer/types/storage';
}
