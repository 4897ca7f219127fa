//! `hil`: command-line front end of the hardware-in-the-loop host (thin over the `hil` library).

fn main() -> anyhow::Result<()> {
    hil::cli::main()
}
