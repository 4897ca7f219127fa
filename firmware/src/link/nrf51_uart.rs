//! UART0 of the nRF51822 (BBC micro:bit; QEMU `microbit`'s first serial port), through the
//! `nrf51-pac` PAC: transmit by polling `EVENTS_TXDRDY`, receive in the UART0 interrupt into
//! the link's queue.
//!
//! The nRF51's UART is task/event driven (nRF51 Series Reference Manual v3.0, ch. 29):
//! `TASKS_STARTTX`/`TASKS_STARTRX` start the two halves; a received byte sets
//! `EVENTS_RXDRDY` and waits in `RXD` (clear the event, then read `RXD`: the event is set again
//! while more bytes wait); a byte written to `TXD` is sent, then `EVENTS_TXDRDY` is set, and the
//! next byte may be written only after it (QEMU drops a byte written before).

use nrf51_pac as pac;
use nrf51_pac::interrupt;

use super::{RxQueue, Serial, Transmitter};

/// `BAUDRATE` value for 115200 baud (the reference manual's table; QEMU ignores it).
const BAUD_115200: u32 = 0x01D7_E000;
/// micro:bit pins of the interface MCU's serial bridge: TX P0.24, RX P0.25.
const PIN_TXD: u32 = 24;
const PIN_RXD: u32 = 25;

/// UART0's registers, for the interrupt and the transmitter (the interrupt only touches
/// `EVENTS_RXDRDY`/`RXD`, the transmitter only `EVENTS_TXDRDY`/`TXD`).
fn regs() -> &'static pac::uart0::RegisterBlock {
    // SAFETY: the PAC's fixed, valid UART0 address; the accesses above do not conflict.
    unsafe { &*pac::UART0::ptr() }
}

/// The receive queue's producer end, used by the UART0 interrupt.
static RX: RxQueue = RxQueue::new();

/// UART0's transmitter.
pub struct Uart0Tx(());

impl Transmitter for Uart0Tx {
    fn send(&mut self, byte: u8) {
        let u = regs();
        // SAFETY (each `bits`): 0 clears an event; any byte is a valid TXD value.
        u.events_txdrdy.write(|w| unsafe { w.bits(0) });
        u.txd.write(|w| unsafe { w.txd().bits(byte) });
        while u.events_txdrdy.read().bits() == 0 {}
    }

    fn flush(&mut self) {
        // Each send waited for its byte's TXDRDY: nothing is in flight.
    }
}

/// Selects the pins and the baud rate, enables UART0, starts both halves and the receive
/// interrupt; returns the port (`None` if the device peripherals were taken already or this is
/// called twice).
pub fn init() -> Option<Serial<Uart0Tx>> {
    let dp = pac::Peripherals::take()?;
    let rx = RX.split()?;
    let u = &dp.UART0;
    // SAFETY (each `bits`): values from the reference manual's register descriptions.
    u.pseltxd.write(|w| unsafe { w.bits(PIN_TXD) });
    u.pselrxd.write(|w| unsafe { w.bits(PIN_RXD) });
    u.baudrate.write(|w| unsafe { w.bits(BAUD_115200) });
    u.enable.write(|w| w.enable().enabled());
    u.events_rxdrdy.write(|w| unsafe { w.bits(0) });
    u.intenset.write(|w| w.rxdrdy().set());
    u.tasks_starttx.write(|w| unsafe { w.bits(1) });
    u.tasks_startrx.write(|w| unsafe { w.bits(1) });
    // SAFETY: the handler and the queue it feeds are ready.
    unsafe { cortex_m::peripheral::NVIC::unmask(pac::Interrupt::UART0) };
    Some(Serial::new(Uart0Tx(()), rx))
}

/// UART0 interrupt: moves every received byte into the receive queue (clear the event, then
/// read `RXD`; the event comes back while bytes wait).
#[interrupt]
fn UART0() {
    let u = regs();
    cortex_m::interrupt::free(|cs| {
        while u.events_rxdrdy.read().bits() != 0 {
            // SAFETY: 0 clears the event.
            u.events_rxdrdy.write(|w| unsafe { w.bits(0) });
            RX.push(cs, u.rxd.read().rxd().bits());
        }
    });
}
