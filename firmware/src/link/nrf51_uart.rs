//! UART0 of the nRF51822 (BBC micro:bit; QEMU `microbit`'s first serial port), through the
//! `nrf51-pac` PAC: transmit by polling `EVENTS_TXDRDY`, receive in the UART0 interrupt into
//! a `heapless::spsc::Queue` (the interrupt produces, the main loop consumes).
//!
//! The nRF51's UART is task/event driven (nRF51 Series Reference Manual v3.0, ch. 29):
//! `TASKS_STARTTX`/`TASKS_STARTRX` start the two halves; a received byte sets
//! `EVENTS_RXDRDY` and waits in `RXD` (clear the event, then read `RXD`: the event is set again
//! while more bytes wait); a byte written to `TXD` is sent, then `EVENTS_TXDRDY` is set, and the
//! next byte may be written only after it (QEMU drops a byte written before).

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::interrupt::Mutex;
use heapless::spsc::{Consumer, Producer, Queue};
use nrf51_pac as pac;
use nrf51_pac::interrupt;

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

/// Receive queue size (a `heapless::spsc::Queue` of this size holds one byte less).
const RX_LEN: usize = 256;

/// The receive queue's producer end, used by the UART0 interrupt.
static RX_PRODUCER: Mutex<RefCell<Option<Producer<'static, u8>>>> = Mutex::new(RefCell::new(None));
/// Bytes lost because the receive queue was full.
pub static RX_OVERFLOWS: AtomicU32 = AtomicU32::new(0);

/// UART0 as an `embedded-io` serial port: blocking writes, reads from the receive queue.
pub struct Serial {
    rx: Consumer<'static, u8>,
}

impl embedded_io::ErrorType for Serial {
    type Error = core::convert::Infallible;
}

impl embedded_io::Write for Serial {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let u = regs();
        for &b in buf {
            u.events_txdrdy.write(|w| unsafe { w.bits(0) });
            u.txd.write(|w| unsafe { w.txd().bits(b) });
            while u.events_txdrdy.read().bits() == 0 {}
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        // Each write waited for its byte's TXDRDY: nothing is in flight.
        Ok(())
    }
}

impl embedded_io::ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(self.rx.ready())
    }
}

impl embedded_io::Read for Serial {
    /// Waits (sleeping) for at least one byte, then takes as many as are queued and fit.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        while !self.rx.ready() {
            cortex_m::interrupt::free(|_| {
                if !self.rx.ready() {
                    cortex_m::asm::wfi();
                }
            });
        }
        let mut n = 0;
        while n < buf.len() {
            match self.rx.dequeue() {
                Some(b) => {
                    buf[n] = b;
                    n += 1;
                }
                None => break,
            }
        }
        Ok(n)
    }
}

/// Selects the pins and the baud rate, enables UART0, starts both halves and the receive
/// interrupt; returns the port (`None` if the device peripherals were taken already or this is
/// called twice).
pub fn init() -> Option<Serial> {
    let dp = pac::Peripherals::take()?;
    let queue = cortex_m::singleton!(: Queue<u8, RX_LEN> = Queue::new())?;
    let (producer, consumer) = queue.split();
    // Inside the critical section nothing else holds the cell, so the borrow succeeds.
    cortex_m::interrupt::free(|cs| {
        if let Ok(mut slot) = RX_PRODUCER.borrow(cs).try_borrow_mut() {
            *slot = Some(producer);
        }
    });
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
    Some(Serial { rx: consumer })
}

/// UART0 interrupt: moves every received byte into the receive queue (clear the event, then
/// read `RXD`; the event comes back while bytes wait).
#[interrupt]
fn UART0() {
    let u = regs();
    cortex_m::interrupt::free(|cs| {
        // `try_borrow_mut` cannot fail inside the critical section; it keeps a panic path out.
        let mut producer = RX_PRODUCER.borrow(cs).try_borrow_mut().ok();
        while u.events_rxdrdy.read().bits() != 0 {
            u.events_rxdrdy.write(|w| unsafe { w.bits(0) });
            let b = u.rxd.read().rxd().bits();
            let queued = producer
                .as_deref_mut()
                .and_then(Option::as_mut)
                .is_some_and(|p| p.enqueue(b).is_ok());
            if !queued {
                // Armv6-M has no atomic read-modify-write; inside the critical section a load
                // and a store are enough.
                let lost = RX_OVERFLOWS.load(Ordering::Relaxed);
                RX_OVERFLOWS.store(lost.wrapping_add(1), Ordering::Relaxed);
            }
        }
    });
}
