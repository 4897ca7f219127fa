//! The serial link's driver, one per board that has one (cfg `board`): each gives a
//! [`Serial`] port with `embedded-io`'s blocking traits (what
//! [`control_loop::Board`](crate::control_loop::Board) drives), an [`init`] that sets it up, and
//! [`RX_OVERFLOWS`], the count of received bytes lost to a full receive queue.
//!
//! | board | driver | receive |
//! | --- | --- | --- |
//! | `netduinoplus2` (STM32F405, M4F) | USART1, `stm32f4` PAC ([`stm32f4_usart`]) | interrupt into a queue |
//! | `microbit` (nRF51822, M0) | UART0, `nrf51-pac` ([`nrf51_uart`]) | interrupt into a queue |
//!
//! Both receive in an interrupt handler into a `heapless::spsc::Queue` (the interrupt
//! produces, the main loop consumes), so the control loop can sleep (`wfi`) between bytes,
//! and transmit by polling.

#[cfg(board = "microbit")]
pub mod nrf51_uart;
#[cfg(board = "netduinoplus2")]
pub mod stm32f4_usart;

#[cfg(board = "microbit")]
pub use nrf51_uart::{RX_OVERFLOWS, Serial, init};
#[cfg(board = "netduinoplus2")]
pub use stm32f4_usart::{RX_OVERFLOWS, Serial, init};
