"""Energy: monthly consumption and the virtual battery (`consumption`), Boost Mon Surplus injections and the
kitty they earn (`surplus`), the month periods customers ask about in French (`periods`), and the energy topics
Hortense points elsewhere, such as power cuts and moving (`topics`)."""
