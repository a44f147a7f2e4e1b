# Refusals of the forms and of the configuration file: the instrument,
# calculation, alarm, destination, files and cloud sections. English reads
# exactly as the code's Display text (core and device-drivers tests check it).

