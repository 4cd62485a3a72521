// Worker-thread bootstrap: module hooks registered by `--import tsx` in the main thread do not reach worker threads
// on Node 20, so the worker registers tsx itself before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
