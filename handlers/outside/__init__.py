from handlers.outside.router import router

__all__ = ["router"]
