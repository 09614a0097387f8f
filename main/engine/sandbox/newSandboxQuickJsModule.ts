/**
 * Loads the QuickJS WebAssembly module the sandbox runs programs in, with a memory of fixed size.
 *
 * Why the memory must never grow: quickjs-emscripten-core 0.32.0 reads the out-parameters of some
 * calls through typed-array views it made before the call (`runtime.executePendingJobs` the
 * context that ran the last job, `context.newPromise` the resolve/reject functions, the context's
 * `getLength`/`getOwnPropertyNames` counts). When the call grows the WebAssembly memory, the old
 * ArrayBuffer is detached and the read gives `undefined`; executePendingJobs then looks the context
 * up, misses, and calls `newContext({ contextPointer: undefined })`, which creates a whole new
 * context that nothing frees. Freeing the runtime later aborts the module with
 * `Assertion failed: list_empty(&rt->gc_obj_list)`. This is what long promise chains hit: their
 * links are built inside promise jobs, and enough of them grow the memory.
 *
 * Measured on this build (standalone scripts, the endless `.then` chain, no limits): 20,000 links
 * freed cleanly and 40,000 aborted; the memory grew at 30,000 links (16 → 19.25 MiB), and each
 * growth during executePendingJobs added one context's set of builtins to the runtime's object
 * list (1 → 2 → … → 6 by 75,000 links); the same 80,000-link chain freed cleanly when the memory
 * had grown beforehand, and so did 300,000 objects allocated inside one job (quickjs-emscripten
 * issue #269), which abort with a growable memory. No job needs to be queued for the abort, and
 * the C stack is not involved (running the chain's jobs used under 1 KiB of it, freeing ~0), so
 * running out the queued jobs before freeing, QuickJS's GC, or the stack limit cannot help.
 *
 * A fixed memory also makes `memoryBytes` a real bound: this build's allocator accounting counts 8
 * bytes per block (malloc_usable_size is 0 under Emscripten), so QuickJS's own limit of 16 MiB let
 * programs take 49–83 MiB of small objects, and 2 GiB of 100 kB strings.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type EmscriptenModuleLoaderOptions,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import { MAX_SANDBOX_MEMORY_BYTES } from './resolveSandboxLimits.ts';

/**
 * WebAssembly memory given to the module on top of the program's `memoryBytes`: its C stack (5 MiB),
 * static data, the runtime and context themselves, and room for the sandbox's own copies (a host
 * reply is up to 4 MiB). A program can still fill it all; see WasmMemoryExhaustedError.
 */
export const SANDBOX_WASM_OVERHEAD_BYTES = 16 * 1024 * 1024;

/** The part of Node's WebAssembly API used here (the project's typings do not declare it). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (descriptor: { initial: number; maximum: number }) => { grow(pages: number): number };
      compile(bytes: Uint8Array): Promise<object>;
    };
  }
).WebAssembly;

const WASM_PAGE_BYTES = 64 * 1024;
/** The module's import asks for at least 16 MiB and at most 2 GiB (32-bit WebAssembly). */
const MIN_WASM_PAGES = 256;
const MAX_WASM_PAGES = 32_768;

/** Size in bytes of the fixed WebAssembly memory for a program limited to `memoryBytes`. */
export function sandboxWasmMemoryBytes(memoryBytes: number): number {
  const wanted = Math.ceil(
    (Math.min(memoryBytes, MAX_SANDBOX_MEMORY_BYTES) + SANDBOX_WASM_OVERHEAD_BYTES) / WASM_PAGE_BYTES,
  );
  return Math.min(MAX_WASM_PAGES, Math.max(MIN_WASM_PAGES, wanted)) * WASM_PAGE_BYTES;
}

/**
 * A failed allocation made from JavaScript (quickjs-emscripten copying a string or a pointer array into
 * the module): the program has filled the fixed memory. Without this check `_malloc` returns 0 and
 * the copy overwrites the module's static data.
 */
export class WasmMemoryExhaustedError extends Error {
  override name = 'WasmMemoryExhaustedError';
}

/** A QuickJS module with a fixed memory, and how often that memory was found full. */
export interface SandboxQuickJsModule {
  module: QuickJSWASMModule;
  /**
   * How many times so far the allocator asked for more memory and was refused. QuickJS turns most
   * refusals into an "out of memory" error, but drops a promise job it has no memory to queue, so a
   * program can end up waiting forever with no error at all; this count tells that case apart.
   */
  memoryFullCount(): number;
}

/**
 * A QuickJS module (the release-sync variant) whose WebAssembly memory is fixed at
 * sandboxWasmMemoryBytes(memoryBytes) and never grows: an allocation past it fails inside QuickJS
 * with "out of memory" (the program's MemoryLimit), or with WasmMemoryExhaustedError when made from
 * JavaScript. Its whole memory is released with the module.
 */
export async function newSandboxQuickJsModule(memoryBytes: number): Promise<SandboxQuickJsModule> {
  const pages = sandboxWasmMemoryBytes(memoryBytes) / WASM_PAGE_BYTES;
  const memory = new wasm.Memory({ initial: pages, maximum: pages });
  let memoryFull = 0;
  // Emscripten's allocator grows the memory when it runs out; a refusal makes that allocation fail.
  memory.grow = () => {
    memoryFull += 1;
    throw new RangeError('The sandbox memory has a fixed size.');
  };
  // Emscripten calls onRuntimeInitialized on its Module object, the one the core calls `_malloc` on.
  const emscriptenModule = {
    onRuntimeInitialized(this: { _malloc: (bytes: number) => number }) {
      const malloc = this._malloc;
      this._malloc = (bytes) => {
        const pointer = malloc(bytes);
        if (pointer === 0 && bytes > 0)
          throw new WasmMemoryExhaustedError(`no room left for ${bytes} bytes in the program's memory`);
        return pointer;
      };
    },
  };
  const variant = newVariant(await importReleaseSyncVariant(), {
    wasmMemory: memory,
    wasmModule: compiledQuickJs,
    emscriptenModule: emscriptenModule as EmscriptenModuleLoaderOptions,
  });
  return { module: await newQuickJSWASMModuleFromVariant(variant), memoryFullCount: () => memoryFull };
}

let compiled: Promise<object> | undefined;

/** The variant's WebAssembly, compiled once per thread: a new module then only instantiates it. */
function compiledQuickJs(): Promise<object> {
  compiled ??= readFile(createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm'))
    .then((bytes) => wasm.compile(bytes))
    .catch((error: unknown) => {
      compiled = undefined;
      throw error;
    });
  return compiled;
}

/** The variant object, whichever way the package resolves (its type declarations are CommonJS-flavoured). */
async function importReleaseSyncVariant(): Promise<QuickJSSyncVariant> {
  const imported: unknown = await import('@jitl/quickjs-wasmfile-release-sync');
  let variant = imported;
  while (typeof variant === 'object' && variant !== null && !('importFFI' in variant) && 'default' in variant)
    variant = variant.default;
  return variant as QuickJSSyncVariant;
}
