"""The supplier's public contact facts, quoted in answers and on documents."""

NAME = "Hortense Énergie"
LEGAL_IDENTITY = "Hortense Énergie SAS, 10 rue de la Lumière, 69002 Lyon, RCS Lyon 912 345 678"
CUSTOMER_SERVICE_PHONE = "09 70 80 90 00"
CUSTOMER_SERVICE_HOURS = "du lundi au vendredi de 9h à 18h"
ENEDIS_REPAIR_PREFIX = "09 72 67 50"
