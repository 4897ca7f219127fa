//! The serial link: one UART driver per board that has one (cfg `board`), and what they share.
//!
//! | board | driver | part |
//! | --- | --- | --- |
//! | `netduinoplus2` (M4F) | [`stm32f4_usart`]: USART1, `stm32f4` PAC | STM32F405 |
//! | `microbit` (M0) | [`nrf51_uart`]: UART0, `nrf51-pac` | nRF51822 |
//!
//! Shared: the receive queue, a `heapless::spsc::Queue` that the UART's interrupt fills
//! ([`RxQueue::push`], the producer end) and the main loop drains ([`Serial`], the consumer
//! end), so the control loop can sleep (`wfi`) between bytes; and [`Serial`], the
//! `embedded-io` port that [`control_loop::Board`](crate::control_loop::Board) drives. A driver
//! supplies only its registers: [`Transmitter`] (blocking, polled) and its interrupt handler,
//! and an `init` that returns the port. Each driver exports `init() -> Option<Serial<…>>`; this
//! module re-exports the board's as [`init`].

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::interrupt::{CriticalSection, Mutex};
use heapless::spsc::{Consumer, Producer, Queue};

#[cfg(board = "microbit")]
pub mod nrf51_uart;
#[cfg(board = "netduinoplus2")]
pub mod stm32f4_usart;

#[cfg(board = "microbit")]
pub use nrf51_uart::init;
#[cfg(board = "netduinoplus2")]
pub use stm32f4_usart::init;

/// Receive queue size (a `heapless::spsc::Queue` of this size holds one byte less).
const RX_LEN: usize = 256;

/// Bytes lost because the receive queue was full.
pub static RX_OVERFLOWS: AtomicU32 = AtomicU32::new(0);

/// The transmit half of a board's UART: blocking, polled.
pub trait Transmitter {
    /// Sends one byte, waiting until the UART takes it.
    fn send(&mut self, byte: u8);
    /// Waits until every byte sent has left the UART.
    fn flush(&mut self);
}

/// The producer end of the receive queue, for the UART's interrupt handler.
pub struct RxQueue(Mutex<RefCell<Option<Producer<'static, u8>>>>);

impl RxQueue {
    /// No queue yet ([`RxQueue::split`] makes it).
    pub const fn new() -> Self {
        Self(Mutex::new(RefCell::new(None)))
    }

    /// Makes the queue (once: `None` the second time), keeps its producer end here and returns
    /// the consumer end.
    pub fn split(&self) -> Option<Consumer<'static, u8>> {
        let queue = cortex_m::singleton!(: Queue<u8, RX_LEN> = Queue::new())?;
        let (producer, consumer) = queue.split();
        // Inside the critical section nothing else holds the cell, so the borrow succeeds.
        cortex_m::interrupt::free(|cs| {
            if let Ok(mut slot) = self.0.borrow(cs).try_borrow_mut() {
                *slot = Some(producer);
            }
        });
        Some(consumer)
    }

    /// Queues a received byte (from the interrupt handler, inside its critical section), or
    /// counts it in [`RX_OVERFLOWS`] when the queue is full.
    pub fn push(&self, cs: &CriticalSection, byte: u8) {
        // `try_borrow_mut` cannot fail inside the critical section; it keeps a panic path out.
        let queued = self
            .0
            .borrow(cs)
            .try_borrow_mut()
            .ok()
            .as_deref_mut()
            .and_then(Option::as_mut)
            .is_some_and(|p| p.enqueue(byte).is_ok());
        if !queued {
            // Armv6-M has no atomic read-modify-write; inside the critical section a load and a
            // store are enough.
            let lost = RX_OVERFLOWS.load(Ordering::Relaxed);
            RX_OVERFLOWS.store(lost.wrapping_add(1), Ordering::Relaxed);
        }
    }
}

impl Default for RxQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// A board's UART as an `embedded-io` serial port: blocking writes through its
/// [`Transmitter`], reads from the receive queue its interrupt fills.
pub struct Serial<T> {
    tx: T,
    rx: Consumer<'static, u8>,
}

impl<T: Transmitter> Serial<T> {
    /// The port of transmitter `tx` and the receive queue's consumer end `rx`.
    pub fn new(tx: T, rx: Consumer<'static, u8>) -> Self {
        Self { tx, rx }
    }
}

impl<T> embedded_io::ErrorType for Serial<T> {
    type Error = core::convert::Infallible;
}

impl<T: Transmitter> embedded_io::Write for Serial<T> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        for &b in buf {
            self.tx.send(b);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.tx.flush();
        Ok(())
    }
}

impl<T> embedded_io::ReadReady for Serial<T> {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(self.rx.ready())
    }
}

impl<T> embedded_io::Read for Serial<T> {
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
