//! USART1 of the STM32F405 (QEMU netduinoplus2's first serial port): blocking transmit,
//! interrupt-driven receive into a `heapless::spsc::Queue` (the interrupt produces, the main
//! loop consumes).

use core::cell::RefCell;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::interrupt::Mutex;
use heapless::spsc::{Consumer, Producer, Queue};

const USART1: usize = 0x4001_1000;
const SR: *mut u32 = USART1 as *mut u32;
const DR: *mut u32 = (USART1 + 0x04) as *mut u32;
const BRR: *mut u32 = (USART1 + 0x08) as *mut u32;
const CR1: *mut u32 = (USART1 + 0x0C) as *mut u32;
const SR_RXNE: u32 = 1 << 5;
const SR_TXE: u32 = 1 << 7;
const SR_TC: u32 = 1 << 6;
const CR1_UE: u32 = 1 << 13;
const CR1_RXNEIE: u32 = 1 << 5;
const CR1_TE: u32 = 1 << 3;
const CR1_RE: u32 = 1 << 2;

// Clock and pin set-up for a real STM32F4 (QEMU ignores these registers).
const RCC_AHB1ENR: *mut u32 = 0x4002_3830 as *mut u32;
const RCC_APB2ENR: *mut u32 = 0x4002_3844 as *mut u32;
const GPIOA_MODER: *mut u32 = 0x4002_0000 as *mut u32;
const GPIOA_AFRH: *mut u32 = 0x4002_0024 as *mut u32;
/// 115200 baud from the 16 MHz HSI clock that an STM32F4 runs on after reset.
const BRR_115200_AT_16MHZ: u32 = 0x8B;

/// USART1's interrupt number on the STM32F405.
pub const IRQ: usize = 37;
const NVIC_ISER1: *mut u32 = 0xE000_E104 as *mut u32;

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
        // SAFETY: valid USART1 register; TC (bit 6) is set once the last byte has left.
        while unsafe { read_volatile(SR) } & SR_TC == 0 {}
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

/// Enables clocks, pins, the transmitter, the receiver and the receive interrupt; returns the
/// port (`None` if called twice).
pub fn init() -> Option<Serial> {
    let queue = cortex_m::singleton!(: Queue<u8, RX_LEN> = Queue::new())?;
    let (producer, consumer) = queue.split();
    cortex_m::interrupt::free(|cs| RX_PRODUCER.borrow(cs).replace(Some(producer)));
    // SAFETY: fixed, valid STM32F405 register addresses; this runs once before interrupts.
    unsafe {
        write_volatile(RCC_AHB1ENR, read_volatile(RCC_AHB1ENR) | 1); // GPIOA
        write_volatile(RCC_APB2ENR, read_volatile(RCC_APB2ENR) | (1 << 4)); // USART1
        // PA9 (TX), PA10 (RX): alternate function 7.
        let moder = read_volatile(GPIOA_MODER) & !(0b1111 << 18);
        write_volatile(GPIOA_MODER, moder | (0b1010 << 18));
        let afrh = read_volatile(GPIOA_AFRH) & !(0xFF << 4);
        write_volatile(GPIOA_AFRH, afrh | (0x77 << 4));
        write_volatile(BRR, BRR_115200_AT_16MHZ);
        write_volatile(CR1, CR1_UE | CR1_TE | CR1_RE | CR1_RXNEIE);
        write_volatile(NVIC_ISER1, 1 << (IRQ - 32));
    }
    Some(Serial { rx: consumer })
}

/// Sends `bytes`, waiting for the transmit register each time.
fn write(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: valid USART1 registers.
        unsafe {
            while read_volatile(SR) & SR_TXE == 0 {}
            write_volatile(DR, u32::from(b));
        }
    }
}

/// USART1 interrupt: moves every received byte into the receive queue.
pub extern "C" fn on_interrupt() {
    cortex_m::interrupt::free(|cs| {
        let mut producer = RX_PRODUCER.borrow(cs).borrow_mut();
        // SAFETY: valid USART1 registers; reading DR clears RXNE (and an overrun flag).
        while unsafe { read_volatile(SR) } & SR_RXNE != 0 {
            let b = unsafe { read_volatile(DR) } as u8;
            let queued = producer.as_mut().is_some_and(|p| p.enqueue(b).is_ok());
            if !queued {
                RX_OVERFLOWS.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
}
