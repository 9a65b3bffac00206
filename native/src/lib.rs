pub mod cel;
pub mod cel_parse;
pub mod codec;
pub mod dec;
pub mod engine;
pub mod event;
pub mod filters;
pub mod heap_size;
pub mod import;
pub mod ip;
pub mod live;
pub mod plan;
pub mod replay;
pub mod scoring;
pub mod sequences;
pub mod state;
pub mod tokens;
pub mod value;
pub mod windows;

#[cfg(test)]
mod conformance;

#[cfg(feature = "extension-module")]
mod conditions_py;
#[cfg(feature = "extension-module")]
mod lib_py;
#[cfg(feature = "extension-module")]
mod live_py;
#[cfg(feature = "extension-module")]
mod tokens_py;

// Replay allocates and frees many small values (entries, views, window state); glibc's
// allocator spent about a third of the run on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
