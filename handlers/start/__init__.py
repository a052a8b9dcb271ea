from handlers.start.router import router

__all__ = ["router"]
