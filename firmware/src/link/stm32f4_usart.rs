//! USART1 of the STM32F405 (QEMU netduinoplus2's first serial port), through the `stm32f4`
//! PAC: blocking transmit,
//! interrupt-driven receive into a `heapless::spsc::Queue` (the interrupt produces, the main
//! loop consumes).

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::interrupt::Mutex;
use heapless::spsc::{Consumer, Producer, Queue};
use stm32f4::stm32f405 as pac;
use stm32f4::stm32f405::interrupt;

/// 115200 baud from the 16 MHz HSI clock that an STM32F4 runs on after reset:
/// USARTDIV = 16 MHz / (16 × 115200) = 8.68 → mantissa 8, fraction 11/16.
const BRR_MANTISSA: u16 = 8;
const BRR_FRACTION: u8 = 11;

/// USART1's registers, for the interrupt and the transmitter (which share the peripheral:
/// the interrupt only reads SR/DR for received bytes, the transmitter only polls TXE/TC and
/// writes DR).
fn regs() -> &'static pac::usart1::RegisterBlock {
    // SAFETY: the PAC's fixed, valid USART1 address; the accesses above do not conflict.
    unsafe { &*pac::USART1::ptr() }
}

/// Receive queue size (a `heapless::spsc::Queue` of this size holds one byte less).
const RX_LEN: usize = 256;

/// The receive queue's producer end, used by the USART1 interrupt.
static RX_PRODUCER: Mutex<RefCell<Option<Producer<'static, u8>>>> = Mutex::new(RefCell::new(None));
/// Bytes lost because the receive queue was full.
pub static RX_OVERFLOWS: AtomicU32 = AtomicU32::new(0);

/// USART1 as an `embedded-io` serial port: blocking writes, reads from the receive queue.
pub struct Serial {
    rx: Consumer<'static, u8>,
}

impl embedded_io::ErrorType for Serial {
    type Error = core::convert::Infallible;
}

impl embedded_io::Write for Serial {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        // TC is set once the last byte has left the shift register.
        while regs().sr().read().tc().bit_is_clear() {}
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

/// Enables clocks, pins, the transmitter, the receiver and the receive interrupt (clock and pin
/// set-up matter on a real STM32F4; QEMU ignores them); returns the port (`None` if the device
/// peripherals were taken already or this is called twice).
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
    dp.RCC.ahb1enr().modify(|_, w| w.gpioaen().set_bit());
    dp.RCC.apb2enr().modify(|_, w| w.usart1en().set_bit());
    // PA9 (TX), PA10 (RX): alternate function 7.
    dp.GPIOA
        .moder()
        .modify(|_, w| w.moder9().alternate().moder10().alternate());
    dp.GPIOA
        .afrh()
        .modify(|_, w| w.afrh9().af7().afrh10().af7());
    let u = &dp.USART1;
    u.brr().write(|w| {
        w.div_mantissa()
            .set(BRR_MANTISSA)
            .div_fraction()
            .set(BRR_FRACTION)
    });
    u.cr1().write(|w| {
        w.ue()
            .enabled()
            .te()
            .enabled()
            .re()
            .enabled()
            .rxneie()
            .enabled()
    });
    // SAFETY: the handler and the queue it feeds are ready.
    unsafe { cortex_m::peripheral::NVIC::unmask(pac::Interrupt::USART1) };
    Some(Serial { rx: consumer })
}

/// Sends `bytes`, waiting for the transmit register each time.
fn write(bytes: &[u8]) {
    let u = regs();
    for &b in bytes {
        while u.sr().read().txe().bit_is_clear() {}
        u.dr().write(|w| w.dr().set(u16::from(b)));
    }
}

/// USART1 interrupt: moves every received byte into the receive queue (reading DR clears
/// RXNE and an overrun flag).
#[interrupt]
fn USART1() {
    let u = regs();
    cortex_m::interrupt::free(|cs| {
        // `try_borrow_mut` cannot fail inside the critical section; it keeps a panic path out.
        let mut producer = RX_PRODUCER.borrow(cs).try_borrow_mut().ok();
        while u.sr().read().rxne().bit_is_set() {
            let b = u.dr().read().dr().bits() as u8;
            let queued = producer
                .as_deref_mut()
                .and_then(Option::as_mut)
                .is_some_and(|p| p.enqueue(b).is_ok());
            if !queued {
                RX_OVERFLOWS.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
}
