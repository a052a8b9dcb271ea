from handlers.bookings.router import router

__all__ = ["router"]
