/*
 * report_int.h - internals of the report module. Nothing outside
 * src/report includes this file (tests may).
 */
#ifndef LINESEC_REPORT_INT_H
#define LINESEC_REPORT_INT_H

#include "linesec/report.h"

#endif
