"""Where a driver is while linking trucks by phone: the reply keyboard with the contact button is up."""

from aiogram.fsm.state import State, StatesGroup


class FollowFlow(StatesGroup):
    sharing_phone = State()
