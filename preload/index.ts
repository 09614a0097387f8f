/**
 * The preload bridge. It will expose exactly `invoke(name, input)` and `on(event, listener)` over the
 * typed contract; nothing is exposed yet because the contract does not exist yet.
 */
export {};
