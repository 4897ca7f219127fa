//! USART1 of the STM32F405 (QEMU netduinoplus2's first serial port): blocking transmit,
//! interrupt-driven receive into a ring buffer.

use core::cell::UnsafeCell;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

const USART1: usize = 0x4001_1000;
const SR: *mut u32 = USART1 as *mut u32;
const DR: *mut u32 = (USART1 + 0x04) as *mut u32;
const BRR: *mut u32 = (USART1 + 0x08) as *mut u32;
const CR1: *mut u32 = (USART1 + 0x0C) as *mut u32;
const SR_RXNE: u32 = 1 << 5;
const SR_TXE: u32 = 1 << 7;
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

const RX_LEN: usize = 256;

struct Ring(UnsafeCell<[u8; RX_LEN]>);
// SAFETY: single producer (the USART1 interrupt) and single consumer (the main loop); the
// indices are atomics and a slot is written only while it is outside the consumer's range.
unsafe impl Sync for Ring {}

static RX: Ring = Ring(UnsafeCell::new([0; RX_LEN]));
static HEAD: AtomicUsize = AtomicUsize::new(0);
static TAIL: AtomicUsize = AtomicUsize::new(0);
/// Bytes lost because the ring buffer was full.
pub static RX_OVERFLOWS: AtomicU32 = AtomicU32::new(0);

/// Enables clocks, pins, the transmitter, the receiver and the receive interrupt.
pub fn init() {
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
}

/// Sends `bytes`, waiting for the transmit register each time.
pub fn write(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: valid USART1 registers.
        unsafe {
            while read_volatile(SR) & SR_TXE == 0 {}
            write_volatile(DR, u32::from(b));
        }
    }
}

/// Takes the oldest received byte, if any.
pub fn read() -> Option<u8> {
    let tail = TAIL.load(Ordering::Relaxed);
    if tail == HEAD.load(Ordering::Acquire) {
        return None;
    }
    // SAFETY: slot `tail` was published by the producer (Acquire above) and is not rewritten
    // until TAIL moves past it.
    let b = unsafe { (*RX.0.get())[tail % RX_LEN] };
    TAIL.store(tail.wrapping_add(1), Ordering::Release);
    Some(b)
}

/// `true` when no received byte is waiting.
pub fn is_empty() -> bool {
    TAIL.load(Ordering::Relaxed) == HEAD.load(Ordering::Acquire)
}

/// USART1 interrupt: moves every received byte into the ring buffer.
pub extern "C" fn on_interrupt() {
    // SAFETY: valid USART1 registers; reading DR clears RXNE (and an overrun flag).
    unsafe {
        while read_volatile(SR) & SR_RXNE != 0 {
            let b = read_volatile(DR) as u8;
            let head = HEAD.load(Ordering::Relaxed);
            if head.wrapping_sub(TAIL.load(Ordering::Acquire)) >= RX_LEN {
                RX_OVERFLOWS.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            (*RX.0.get())[head % RX_LEN] = b;
            HEAD.store(head.wrapping_add(1), Ordering::Release);
        }
    }
}
