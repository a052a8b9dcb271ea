from handlers.errors.router import router

__all__ = ["router"]
