"""Where a driver is in the booking conversation."""

from aiogram.fsm.state import State, StatesGroup


class BookingFlow(StatesGroup):
    choosing_checkpoint = State()
    choosing_time = State()
    holding = State()
