from handlers.booking.router import router

__all__ = ["router"]
