//! `hil`: command-line front end of the hardware-in-the-loop host (thin over the `hil` library).

fn main() -> std::process::ExitCode {
    cli_report::exit(hil::cli::main())
}
