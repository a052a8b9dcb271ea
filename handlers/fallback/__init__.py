from handlers.fallback.router import router

__all__ = ["router"]
