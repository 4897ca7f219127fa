//! USART1 of the STM32F405 (QEMU netduinoplus2's first serial port), through the `stm32f4`
//! PAC: blocking transmit, receive in the USART1 interrupt into the link's queue.

use stm32f4::stm32f405 as pac;
use stm32f4::stm32f405::interrupt;

use super::{RxQueue, Serial, Transmitter};

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

/// The receive queue's producer end, used by the USART1 interrupt.
static RX: RxQueue = RxQueue::new();

/// USART1's transmitter.
pub struct Usart1Tx(());

impl Transmitter for Usart1Tx {
    fn send(&mut self, byte: u8) {
        let u = regs();
        while u.sr().read().txe().bit_is_clear() {}
        u.dr().write(|w| w.dr().set(u16::from(byte)));
    }

    fn flush(&mut self) {
        // TC is set once the last byte has left the shift register.
        while regs().sr().read().tc().bit_is_clear() {}
    }
}

/// Enables clocks, pins, the transmitter, the receiver and the receive interrupt (clock and pin
/// set-up matter on a real STM32F4; QEMU ignores them); returns the port (`None` if the device
/// peripherals were taken already or this is called twice).
pub fn init() -> Option<Serial<Usart1Tx>> {
    let dp = pac::Peripherals::take()?;
    let rx = RX.split()?;
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
    Some(Serial::new(Usart1Tx(()), rx))
}

/// USART1 interrupt: moves every received byte into the receive queue (reading DR clears
/// RXNE and an overrun flag).
#[interrupt]
fn USART1() {
    let u = regs();
    cortex_m::interrupt::free(|cs| {
        while u.sr().read().rxne().bit_is_set() {
            RX.push(cs, u.dr().read().dr().bits() as u8);
        }
    });
}
