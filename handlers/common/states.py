"""Where a driver is in a conversation: the steps that expect typed text or a tap. Named here, once,
because one feature's step may start another's (adding the first truck in the middle of /book, then
booking on), and the fallback answers by whether a driver is in a step at all."""

from aiogram.fsm.state import State, StatesGroup


class BookingFlow(StatesGroup):
    """The booking conversation: a checkpoint, a time, a hold."""

    choosing_checkpoint = State()
    choosing_time = State()
    holding = State()


class TruckFlow(StatesGroup):
    """Adding a truck: the steps that expect typed text."""

    entering_plate = State()
    entering_trailer = State()


class FollowFlow(StatesGroup):
    """Linking trucks by phone: the reply keyboard with the contact button is up."""

    sharing_phone = State()
