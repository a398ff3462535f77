// Keys of buildomat-github's job header that mvm accepts without acting on them (the schema in
// job-file.ts lets them be; `mvm job run` says it ignores them). Apart, so that the reader loads
// no TypeBox.
export const UNUSED_JOB_FILE_KEYS = ['rust_toolchain', 'skip_clone', 'access_repo', 'publish'] as const;
