"""Who uses the queue: accounts (`accounts`), the trucks each books for (`trucks`) and their plates
(`plates`), and which trucks each account hears of (`follows`): its own, and those the border system
registered (`registry`) with a phone the account shared (`phones`)."""
