//! The `gatehouse` binary: parses arguments and hands over to the library.

use std::process::ExitCode;

/// mimalloc instead of the system allocator: a decision allocates a dozen short strings (the
/// event's fields, the reply), and occupancy reports decode millions of records; mimalloc
/// makes a core decision about 13 % faster (docs/benchmarks.md, "Decisions").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    gatehouse::cli::main()
}
