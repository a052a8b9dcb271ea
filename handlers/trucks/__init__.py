from handlers.trucks.router import router

__all__ = ["router"]
