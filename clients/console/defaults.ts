// Where the console listens unless told otherwise. Kept apart from server.ts
// so that naming the defaults (every `concordat` command's help) does not load
// the console's HTTP stack and PDF writer.
export const DEFAULT_UI_PORT = 8788;
export const DEFAULT_UI_HOST = '127.0.0.1';
