"""Where a driver is while adding a truck: the steps that expect typed text."""

from aiogram.fsm.state import State, StatesGroup


class TruckFlow(StatesGroup):
    entering_plate = State()
    entering_trailer = State()
