"""Following trucks: the menu of a truck registered with the driver's phone (its notices on or off),
and linking those trucks, by the phone shared through Telegram's contact button. An own truck's
notices are switched in its own menu (router.py)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.common.filters import Magic
from handlers.common.replies import alert, replace
from handlers.common.screen import not_own_contact, stale_button
from handlers.common.states import FollowFlow
from handlers.trucks import following_screens as screens
from handlers.trucks.callbacks import FollowCb, PhoneAction, PhoneCb, PhoneTruckCb
from handlers.trucks.router import listing
from services.accounts.follows import Followable, FollowService
from services.accounts.trucks import TruckService


class OwnContact(Filter):
    """The sender's own contact, as the contact button sends it: not someone else's, and not a
    forwarded one (Telegram vouches for neither). Those go on: to the agents from a driver with a
    ticket (say, a dispatcher's number), else the fallback's answer."""

    async def __call__(self, message: Message) -> bool:
        contact = message.contact
        return (contact is not None and contact.user_id == message.from_user.id
                and message.forward_origin is None)


def router() -> Router:
    r = Router(name="following")
    r.message.register(contact_shared, OwnContact())
    r.message.register(someone_elses_contact, FollowFlow.sharing_phone, Magic(F.contact))
    r.message.register(not_now, FollowFlow.sharing_phone, Magic(F.text & ~F.text.startswith("/")))
    r.callback_query.register(toggle, FollowCb.filter())
    r.callback_query.register(phone_truck, PhoneTruckCb.filter())
    r.callback_query.register(ask_phone, PhoneCb.filter())
    return r


async def toggle(query: CallbackQuery, callback_data: FollowCb, follows: FollowService, trucks: TruckService,
                 language: str, callback_answer: CallbackAnswer) -> None:
    """A bell of the list as it was before the menus, still in older messages."""
    if not await follows.set_following(query.from_user.id, callback_data.plate, callback_data.on):
        alert(callback_answer, stale_button())  # a plate this account has no claim to
        return
    await replace(query, await listing(query.from_user.id, trucks, follows, language))


async def phone_truck(query: CallbackQuery, callback_data: PhoneTruckCb, follows: FollowService,
                      trucks: TruckService, language: str, callback_answer: CallbackAnswer) -> None:
    """Its menu, or its notices on or off and the menu again. A plate no longer registered with the
    driver's phone (or never: a forged button) gets the stale-button alert; one that became an own
    truck meanwhile is in the list with its own menu."""
    account_id, plate, page = query.from_user.id, callback_data.plate, callback_data.page
    item = next((item for item in await follows.followable(account_id) if item.plate == plate), None)
    if item is None:
        alert(callback_answer, stale_button())
        return
    if item.own:
        await replace(query, await listing(account_id, trucks, follows, language, page))
        return
    if callback_data.action is not PhoneAction.OPEN:
        on = callback_data.action is PhoneAction.NOTICES_ON
        if not await follows.set_following(account_id, plate, on):
            alert(callback_answer, stale_button())
            return
        item = Followable(plate, own=False, following=on)
    await replace(query, screens.phone_truck_menu(item, language, page))


async def ask_phone(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(FollowFlow.sharing_phone)
    await query.message.answer(**screens.ask_phone().as_kwargs())


async def contact_shared(message: Message, state: FSMContext, follows: FollowService, language: str) -> None:
    """The driver's own phone, at any step: the trucks registered with it send their notices here."""
    shared = await follows.share_phone(message.from_user.id, message.contact.phone_number)
    if shared.phone is None:
        await message.answer(**screens.not_a_phone().as_kwargs())
        return
    await state.clear()
    await message.answer(**screens.phone_linked(shared, language).as_kwargs())


async def someone_elses_contact(message: Message) -> None:
    """While the bot asks for the driver's phone: their own is asked for, whether or not they have a ticket."""
    await message.answer(**not_own_contact().as_kwargs())


async def not_now(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(**screens.not_now().as_kwargs())
