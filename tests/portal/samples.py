"""A creator the portal tests share (roster fields as the import's text cells)."""

LUNA = {
    "handle": "luna.star",
    "display_name": "Luna",
    "timezone": "Asia/Kolkata",
    "languages": "hi;en",
    "followers": "12.5k",
    "revenue_30d": "250000",
    "availability": "Mon 19:00-23:00; Fri 22:00-02:00",
}
