//! Step-throughput benchmark (placeholder until step 5).

fn main() {}
