"""Where a driver is in a conversation, for the steps that expect typed text."""

from aiogram.fsm.state import State, StatesGroup


class TruckFlow(StatesGroup):
    entering_plate = State()
    entering_trailer = State()


class BookingFlow(StatesGroup):
    choosing_checkpoint = State()
    choosing_time = State()
    holding = State()
