/* property.h - MQTT 5 properties: the table of identifiers and types, validation per packet
 * type, iteration over raw property bytes, and a builder for encoders. Raw property bytes are
 * what follows the property-length varint. */
#ifndef PROPERTY_H
#define PROPERTY_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

struct mqtt_prop {
    uint8_t id;
    uint32_t num;          /* byte, u16, u32 and varint values */
    struct mqtt_bin bin;   /* string and binary values; the value of a user property */
    struct mqtt_bin key;   /* user property name */
};

/* Returns the enum mqtt_prop_type of id, or -1 if id is not a property. */
int mqtt_prop_type(uint8_t id);

/* Checks raw property bytes for packet type ptype (enum mqtt_packet_type; will = true for the
 * will properties of CONNECT): known id, allowed in that packet, value well-formed (UTF-8 for
 * strings, 0/1 for booleans, non-zero where the spec says so), no duplicates except user
 * properties and (in PUBLISH) subscription identifiers. Returns 0, RC_MALFORMED_PACKET or
 * RC_PROTOCOL_ERROR. */
uint8_t mqtt_props_validate(struct mqtt_bin raw, uint8_t ptype, bool will);

/* True if the last refusal by mqtt_props_validate() (on this thread) was for a repeated
 * property, and forgets it. Mosquitto 2.1.2 names that cause in its log ("Duplicate property in
 * property list"); the flag is set only on that failure, so accepted packets pay nothing. Call
 * it only after a decode failed. */
bool mqtt_props_take_duplicate(void);

/* Iterates validated raw properties. */
struct mqtt_prop_iter {
    struct rd r;
};
void mqtt_props_iter(struct mqtt_prop_iter *it, struct mqtt_bin raw);
bool mqtt_props_next(struct mqtt_prop_iter *it, struct mqtt_prop *out);
/* First property with this id; false if absent. */
bool mqtt_props_find(struct mqtt_bin raw, uint8_t id, struct mqtt_prop *out);

/* Builder: append one property to b (raw form, no length prefix). */
bool mqtt_props_add_num(struct buf *b, uint8_t id, uint32_t v);  /* byte/u16/u32/varint by id */
bool mqtt_props_add_bin(struct buf *b, uint8_t id, const void *p, size_t n); /* string/binary */
bool mqtt_props_add_pair(struct buf *b, const void *k, size_t kn, const void *v, size_t vn);
/* Appends every property of validated raw except those with id skip1 or skip2 (0 = none). */
bool mqtt_props_copy_except(struct buf *b, struct mqtt_bin raw, uint8_t skip1, uint8_t skip2);

#endif
